def main(): pass
def gui_main(): pass
