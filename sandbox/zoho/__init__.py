"""sandbox/zoho"""
