package main

const defaultEditor = "notepad"
