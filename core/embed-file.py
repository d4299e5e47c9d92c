#!/usr/bin/env python3
"""Writes a C file that defines one byte array holding a file's content.

Usage: embed-file.py SYMBOL INPUT OUTPUT
Defines `const unsigned char SYMBOL[]` (NUL-terminated) and `const size_t SYMBOL_len`.
"""
import sys

symbol, src, dst = sys.argv[1:4]
data = open(src, 'rb').read()
with open(dst, 'w') as out:
    out.write('/* Generated from %s by embed-file.py; do not edit. */\n' % src.split('/')[-1])
    out.write('#include <stddef.h>\n')
    out.write('extern const unsigned char %s[];\nextern const size_t %s_len;\n' % (symbol, symbol))
    out.write('const unsigned char %s[] = {\n' % symbol)
    for i in range(0, len(data), 16):
        out.write('  ' + ', '.join('0x%02x' % b for b in data[i:i + 16]) + ',\n')
    out.write('  0x00\n};\n')
    out.write('const size_t %s_len = %d;\n' % (symbol, len(data)))
