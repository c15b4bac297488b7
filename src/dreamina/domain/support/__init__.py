"""Support (policy section 11, "contact us"): tickets from anyone, privacy questions on the legal clock."""
