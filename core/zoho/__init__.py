"""core/zoho"""
