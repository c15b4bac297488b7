"""Billing: credit ledger, hosted checkout, verified processor events and legal-hold payment records."""
