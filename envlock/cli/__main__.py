from envlock.cli import main

main(prog_name="envlock")
