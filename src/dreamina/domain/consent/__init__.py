"""Consent: policy versions and acceptances (section 10); cookies, analytics and GPC come in the consent issue."""
