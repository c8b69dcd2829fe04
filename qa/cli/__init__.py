"""The command line and the chat: the only part of qa that knows about terminals."""
