from haowu_cli.cli import main

main()
