"""Third-party evaluation data by name: where it comes from, how it is fetched, verified and found."""
