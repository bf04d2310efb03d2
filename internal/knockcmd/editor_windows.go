package knockcmd

const defaultEditor = "notepad"
