"""One small client module per service the console talks to (referral, journey,
matching); every call carries the logged-in person's own token, so each service
decides what that person may see exactly as it does for any other caller."""
