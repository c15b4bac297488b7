"""Payment processor adapters: Stripe, the local sandbox, and the Stripe-shaped signed events they share."""
