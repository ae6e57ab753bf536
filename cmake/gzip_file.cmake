# gzip_file.cmake - gzips IN (relative to the working directory) into OUT.
# Run as: cmake -DIN=... -DOUT=... -P gzip_file.cmake
file(ARCHIVE_CREATE OUTPUT ${OUT} PATHS ${IN} FORMAT raw COMPRESSION GZip
     COMPRESSION_LEVEL 9)
