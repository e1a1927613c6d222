"""Infrastructure under every layer: the ledger, the state folder, masking, progress, resources."""
