print("warplink-mock")
