"""Entry point: ``python app.py`` serves the app on the demo data."""

from dashapp import create_app
from dashapp.config import Config

app = create_app()
server = app.server

if __name__ == "__main__":
    config: Config = server.config["DASHAPP"]
    app.run(host=config.host, port=config.port, debug=config.debug)
