"""The secret detector and redactor as they were before issue 16 (detect-secrets based), kept
verbatim so ``python -m bench privacy`` measures the new detector side by side with it."""
