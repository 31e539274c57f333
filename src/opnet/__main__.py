from opnet.cli import main

raise SystemExit(main())
