from rshell.cli import main

raise SystemExit(main())
