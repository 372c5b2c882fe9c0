"""The web console: server-rendered pages for the people who do the work
(referrers, guides, volunteers, coordinators, the steering group). It owns
nothing but login sessions and preferences and talks only to the other
services' HTTP APIs, with the logged-in person's own token."""
