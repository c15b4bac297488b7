"""Billing: credit ledger, hosted checkout and legal-hold payment records (built in the billing issue)."""
