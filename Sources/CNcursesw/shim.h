#ifndef CORRAL_NCURSESW_SHIM_H
#define CORRAL_NCURSESW_SHIM_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <ncursesw/curses.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

/* Static inline wrappers for what curses defines as macros, which Swift cannot call. */

static inline int corral_curses_lines(void) { return LINES; }
static inline int corral_curses_columns(void) { return COLS; }
static inline int corral_curses_attribute_bold(void) { return (int)A_BOLD; }
static inline int corral_curses_attribute_reverse(void) { return (int)A_REVERSE; }
static inline int corral_curses_attribute_dim(void) { return (int)A_DIM; }
static inline int corral_curses_key_resize(void) { return KEY_RESIZE; }
static inline int corral_curses_key_up(void) { return KEY_UP; }
static inline int corral_curses_key_down(void) { return KEY_DOWN; }
static inline int corral_curses_key_enter(void) { return KEY_ENTER; }
static inline int corral_curses_key_page_up(void) { return KEY_PPAGE; }
static inline int corral_curses_key_page_down(void) { return KEY_NPAGE; }
static inline int corral_curses_key_home(void) { return KEY_HOME; }
static inline int corral_curses_key_end(void) { return KEY_END; }
static inline int corral_curses_key_mouse(void) { return KEY_MOUSE; }
static inline int corral_curses_key_backspace(void) { return KEY_BACKSPACE; }

/* One key as a wide character: 0 for a character in *value, 1 for a key code (arrows, KEY_RESIZE)
   in *value, -1 when none is waiting. */
static inline int corral_curses_read_wide(int *value) {
    wint_t key = 0;
    int result = wget_wch(stdscr, &key);
    *value = (int)key;
    if (result == KEY_CODE_YES) return 1;
    if (result == OK) return 0;
    return -1;
}

/* Mouse reports for the wheel only (the terminal's own selection still works with Shift). */
static inline void corral_curses_enable_wheel(void) { mousemask(BUTTON4_PRESSED | BUTTON5_PRESSED, NULL); }

/* After KEY_MOUSE: 1 for the wheel turned up, -1 for down, 0 for anything else. */
static inline int corral_curses_wheel(void) {
    MEVENT event;
    if (getmouse(&event) != OK) return 0;
    if (event.bstate & BUTTON4_PRESSED) return 1;
    if (event.bstate & BUTTON5_PRESSED) return -1;
    return 0;
}
static inline int corral_curses_error(void) { return ERR; }
static inline WINDOW *corral_curses_stdscr(void) { return stdscr; }

/* newterm writing to out_fd and reading from in_fd, for a terminal of this type (offscreen). */
static inline SCREEN *corral_curses_newterm_fds(const char *type, int out_fd, int in_fd) {
    FILE *out = fdopen(out_fd, "w");
    FILE *in = fdopen(in_fd, "r");
    if (out == NULL || in == NULL) return NULL;
    return newterm(type, out, in);
}

/* newterm on the process's standard output and input (Swift cannot name stdin/stdout safely). */
static inline SCREEN *corral_curses_newterm(void) { return newterm(NULL, stdout, stdin); }

/* Writes one wide character with attributes and colour pair at (row, column). */
static inline int corral_curses_put(int row, int column, wchar_t character, int attributes, int pair) {
    cchar_t cell;
    wchar_t text[2] = {character, L'\0'};
    if (setcchar(&cell, text, (attr_t)attributes, (short)pair, NULL) != OK) return ERR;
    return mvadd_wch(row, column, &cell);
}

/* The terminal's size from the kernel (after SIGWINCH). Returns 0 on success. */
static inline int corral_terminal_size(int fd, int *rows, int *columns) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -1;
    *rows = size.ws_row;
    *columns = size.ws_col;
    return 0;
}

/* Turns off XON/XOFF flow control on the terminal (Ctrl-S would stop curses' writes, and with
   them the supervisor) and makes that part of the mode curses restores after a suspend; endwin
   gives the shell its own mode back. */
static inline void corral_terminal_disable_flow_control(int fd) {
    struct termios mode;
    if (tcgetattr(fd, &mode) != 0) return;
    mode.c_iflag &= ~(tcflag_t)(IXON | IXOFF);
    if (tcsetattr(fd, TCSANOW, &mode) != 0) return;
    def_prog_mode();
}

#endif
