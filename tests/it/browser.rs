//! Browser tests: headless Chromium through chromedriver, against a real server.
