"""Answering: the patient in the question, the emergency rule, follow-ups and the composer."""
