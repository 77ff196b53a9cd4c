"""What a trained network learned: its states, gates and predictions over a text, and what to compare them with."""
