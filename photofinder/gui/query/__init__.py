"""What the user asks: the search field and its chips, drops and pastes onto the window, and the query state (chips, filters, sort; good matches first)."""
