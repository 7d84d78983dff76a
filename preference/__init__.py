"""Preference rows (DPO, KTO) from generation results, with their rules, filters and provenance."""
