print("corral")
