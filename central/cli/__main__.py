from central.cli.main import app

app(prog_name="hallwatch")
