"""sandbox/servicenow"""
