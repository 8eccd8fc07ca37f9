from kamportal import create_app

app = create_app()
