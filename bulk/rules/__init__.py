"""Pure rules: cell parsing, policy and budgets, listing risk, message templates and their lint."""
