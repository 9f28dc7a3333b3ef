"""core/servicenow"""
