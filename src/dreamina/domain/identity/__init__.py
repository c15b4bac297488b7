"""Identity: sign-up with the jurisdiction's age gate, sign-in, sessions and the subject's own profile."""
