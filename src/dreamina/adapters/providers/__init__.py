"""Model-provider adapters: the offline renderer and the vendor APIs over httpx."""
