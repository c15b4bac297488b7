"""Content moderators: offline (term lists and perceptual hashes) and OpenAI's moderation API."""
