"""What a run says: the summary, the history report and the webhook post."""
