/* node/db: error texts and the blocking connection helper (db.h). */
#include "db/db.h"

#include <stddef.h>

#include "db/util.h"

struct error_entry {
    int code;
    const char *text;
};

static const struct error_entry error_table[] = {
    {CN_DB_OK, "success"},
    {CN_DB_EINVAL, "invalid argument"},
    {CN_DB_ENOMEM, "out of memory"},
    {CN_DB_ESYS, "system call failed"},
    {CN_DB_ECONNECT, "could not connect to the database"},
    {CN_DB_EQUERY, "the database rejected a statement"},
    {CN_DB_EBUSY, "busy"},
    {CN_DB_ETIMEOUT, "timed out"},
    {CN_DB_ECLOSED, "database connection closed"},
    {CN_DB_ENOTFOUND, "not found"},
    {CN_DB_EFORMAT, "malformed input"},
};

const char *cn_db_strerror(int error)
{
    for (size_t i = 0; i < sizeof error_table / sizeof error_table[0]; i++) {
        if (error_table[i].code == error)
            return error_table[i].text;
    }
    return "unknown error";
}

PGconn *cn_db_connect_blocking(const char *conninfo, char *err, size_t err_len)
{
    char line[CN_DB_ERR_SIZE];
    if (conninfo == NULL) {
        cn_db_errorf(CN_DB_EINVAL, err, err_len, "no database connection string");
        return NULL;
    }
    PGconn *conn = PQconnectdb(conninfo);
    if (conn == NULL) {
        cn_db_errorf(CN_DB_ENOMEM, err, err_len, "could not allocate a database connection");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        cn_db_errorf(CN_DB_ECONNECT, err, err_len, "could not connect to the database: %s",
                     cn_db_one_line(PQerrorMessage(conn), line, sizeof line));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}
