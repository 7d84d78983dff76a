"""Agreement metrics between evaluators and humans, and win rates."""
