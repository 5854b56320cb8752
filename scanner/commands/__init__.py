"""One module per subcommand (registered in scanner.cli.COMMANDS)."""
