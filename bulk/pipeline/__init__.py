"""The steps of a run: check, submit, status and customer messages, written against the Amazon Protocol."""
