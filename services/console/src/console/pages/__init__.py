"""The console's pages, one module per kind of person: refer, guide, volunteer, coordinator, steering."""
