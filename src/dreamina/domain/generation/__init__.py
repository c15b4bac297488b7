"""Generation: prompts and reference images to model providers, outputs back (built in the generation issue)."""
