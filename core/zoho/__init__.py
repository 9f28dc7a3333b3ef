"""The Zoho Books client (issue #4): import from the modules, which keep importing this package cheap.

- `regions`: the DC table (location codes, accounts servers, API domains);
- `oauth`: consent URL, redirect parsing, code exchange, refresh, revoke (`ZohoOAuth`);
- `redirect_catcher`: the loopback listener for the auth-code flow (`RedirectCatcher`);
- `auth`: `ZohoTokenManager` (single-flight proactive refresh) and `ZohoAuth` (httpx Auth);
- `budget`: the per-org request budget (`OrgBudget`, `BudgetConfig`, `BudgetRegistry`, `BudgetSnapshot`);
- `pagination`: page walks with loop detection and dedupe;
- `client`: `ZohoBooksClient`; `errors`: its exceptions; `models`: the typed records.
"""
