"""Tests of the ServiceNow client (unit: MockTransport; integration: the sandbox over sockets)."""
