"""Connecting the two systems: Zoho Books' OAuth consent (`zoho`) and ServiceNow's client credentials
(`servicenow`). Each flow stores the OAuth client encrypted, obtains tokens and says what it learnt."""
