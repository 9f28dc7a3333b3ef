"""Simulators of Zoho Books and ServiceNow, served over real HTTP on loopback."""
