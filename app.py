"""Entry point: ``python app.py`` serves the app on the demo data; ``gunicorn
app:server`` serves it too (``python -m dashapp serve --prod`` does more)."""

from dashapp.config import Config
from dashapp.production import wsgi_app

app = wsgi_app()  # a bad setting stops here with one line
server = app.server

if __name__ == "__main__":
    config: Config = server.config["DASHAPP"]
    app.run(host=config.host, port=config.port, debug=config.debug)
