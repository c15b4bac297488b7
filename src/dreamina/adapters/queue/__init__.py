"""Job queues: in-process (embedded profile) and SAQ on Redis (production), running the same task function."""
