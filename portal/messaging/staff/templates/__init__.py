"""Message templates: the grid, the editor and the live preview."""
