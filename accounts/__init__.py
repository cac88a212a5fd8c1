"""Who can sign in: the accounts file, the demo accounts, and the deployment's settings.

* `accounts.settings`: what the environment switches on (demo mode, sign-in to read, where the
  accounts file is).
* `accounts.store`: the JSON accounts file with argon2 password hashes, identity-provider
  accounts matched by e-mail, and the demo accounts.
* `accounts.session`: signed sign-in tokens, so a built-in account's session survives a reload.
* `accounts.throttle`: the sign-in throttle against password guessing.

What a signed-in person may do (roles, and the write path that checks them) is `etl.access`.
"""
