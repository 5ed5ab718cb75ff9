clear
