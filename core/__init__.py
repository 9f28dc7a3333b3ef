"""zbsn core: the headless sync engine (Zoho Books -> ServiceNow AP). Never imports Textual."""

__version__ = "0.1.0"
